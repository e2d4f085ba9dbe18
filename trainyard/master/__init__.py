"""The Trainyard master: settings, lifecycle states, storage (`db`), runtime, REST API.

Import the parts you need (`trainyard.master.settings`, `trainyard.master.states`,
`trainyard.master.db`); this package itself imports nothing heavy.
"""
