# %% [markdown]
# <script>alert('notebook-py')</script>
