"""Storage: the only code that imports SQLAlchemy or sqlmodel or writes SQL (tables, units of work, migrations)."""
