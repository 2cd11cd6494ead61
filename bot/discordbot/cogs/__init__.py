"""The bot's features, one cog each; `AnswerBot.load_cogs` adds them."""
