# %% [markdown]
# # Conversion lab (fixture)
#
# Accuracy of a converted network against the number of time steps $T$.

# %%
print("conversion lab fixture: labmarker-conversion")
