"""Everything the graph's nodes call: data, knowledge, helpdesk, CRM, playbook, ledger.

``tools`` knows nothing of the graph, HTTP or the console.
"""
