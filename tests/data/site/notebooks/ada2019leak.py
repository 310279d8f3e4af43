# %% [markdown]
# # ada2019leak (fixture notebook)

# %%
assert 1 + 1 == 2
