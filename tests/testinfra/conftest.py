"""The operator's host verification suite. Run it against any environment:

    pytest tests/testinfra --hosts=all --connection=ansible \
        --ansible-inventory ~/.local/state/datalab/<env>/inventory.yml

(`datalab inventory --env <env> -o FILE` renders the inventory.) Each test file checks
one concern on every host, or on the hosts of the group it is about.
"""

import os

os.environ.setdefault(
    "ANSIBLE_CONFIG", os.path.join(os.path.dirname(__file__), "..", "..", "ansible", "ansible.cfg")
)
