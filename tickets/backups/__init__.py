"""Backups of the whole platform. With the embedded SQLite database, Pacte backs itself up
(`sqlite.py`: `manage.py backup` and `manage.py restore`); on PostgreSQL the operators' tools
do (see the README's "Backups and restore")."""
