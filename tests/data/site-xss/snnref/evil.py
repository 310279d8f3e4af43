def evil():
    """</code></pre><script>alert('source')</script> ``` <img src=x onerror=alert('source-img')>"""
    return "<script>alert('source-string')</script>"
