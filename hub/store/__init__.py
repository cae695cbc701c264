"""Tables, migrations, the landing store, staging, publication and the change feed."""
