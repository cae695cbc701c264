"""Welcome Hub: pulls course offers, job postings and housing vacancies from partner
institutions, checks them, merges duplicates and publishes one directory."""

__version__ = "0.1.0"
