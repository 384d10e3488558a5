"""Connect Four for strategy-gym: an out-of-tree plug-in (see README.md, "Add an environment").

Importing the package registers the Gymnasium env under the plug-in's own namespace.
"""

from gymnasium.envs.registration import register, registry

ENV_ID = "connect_four/ConnectFour-v0"

if ENV_ID not in registry:  # importing twice must not warn
    register(id=ENV_ID, entry_point="connect_four.env:ConnectFourEnv")
