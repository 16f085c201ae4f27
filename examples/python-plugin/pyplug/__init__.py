"""pyplug: an example qntx/QNTX plugin in Python, on Debian's python3-grpcio (no SDK).

Modules: log (JSON log lines), host (clients of the host's ATSStoreService and
QueueService), routes (HandleHTTP), websocket (HandleWebSocket), jobs (ExecuteJob),
service (the DomainPluginService servicer). plugin.py holds the process contract.
"""

NAME = "pyplug"
VERSION = "0.1.0"
# The semver range of host versions this plugin works with.
QNTX_VERSION = ">=0.1.0"
