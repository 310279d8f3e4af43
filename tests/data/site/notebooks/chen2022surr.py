# %% [markdown]
# # chen2022surr (fixture notebook)

# %%
assert 1 + 1 == 2
