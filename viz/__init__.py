"""rtc: viz."""

# The pressure map's defaults, here so that the CLI's options read them without importing the
# views (networkx, pyvis: rtc's one-shot commands import only what they run).
DEFAULT_BUDGET = 1500
# nodes of aggregates' contents a page holds: what keeps the province's page under 5 MB
# (docs/performance.md); beyond it, a served page asks the API
DEFAULT_EMBED = 1000
