"""AI & copyright Discord bot: an answer engine with verified citations and its Discord front end."""
