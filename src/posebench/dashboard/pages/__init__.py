"""The dashboard's pages: one module each, with ``render()``; ``registry.PAGES`` lists them."""
