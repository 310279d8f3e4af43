# %% [markdown]
# # bo2021clip (fixture notebook)

# %%
assert 1 + 1 == 2
