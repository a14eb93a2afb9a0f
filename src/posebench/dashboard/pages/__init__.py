"""The dashboard's pages: one module each, with ``render()``; ``page_registry.PAGES`` lists them."""
