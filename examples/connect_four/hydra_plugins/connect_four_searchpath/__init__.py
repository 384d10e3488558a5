"""Lets ``train_env.py env=connect_four`` find ``connect_four/conf/env/connect_four.yaml``.

Hydra imports every module under the ``hydra_plugins`` namespace package it can find, so
installing this package is enough; nothing in strategy-gym changes.
"""

from hydra.core.config_search_path import ConfigSearchPath
from hydra.plugins.search_path_plugin import SearchPathPlugin


class ConnectFourSearchPath(SearchPathPlugin):
    def manipulate_search_path(self, search_path: ConfigSearchPath) -> None:
        search_path.append(provider="connect_four", path="pkg://connect_four.conf")
