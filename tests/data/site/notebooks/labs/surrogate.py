# %% [markdown]
# # Surrogate-gradient lab (fixture, not executed in the fixture build)

# %%
print("surrogate lab fixture")
