"""The crisis feature's pure part: playbooks parsed and validated, step rules, checklist views."""
