"""The Discord front end: slash commands, mentions, admin tools; no answer-engine logic here.

`runner.run(settings)` starts the bot; `runner.command_tree_json(settings)` shows the commands it
would register; `runner.sync(settings)` publishes them globally.
"""
