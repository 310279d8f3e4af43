# %% [markdown]
# fixture
