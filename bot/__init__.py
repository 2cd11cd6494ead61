"""AI & copyright Discord bot: an answer engine with verified citations and its Discord front end."""

import os

# Never reach for a model hub at run time: the local embedding model ships inside a package.
os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")
os.environ.setdefault("ANONYMIZED_TELEMETRY", "False")
