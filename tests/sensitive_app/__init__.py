"""A test-only app: a model carrying every kind of sensitive field, installed when TESTING.

`Person` stands in for the recipients and advisors of later issues, so that the
mechanisms of `changning_aid.sensitive`, `changning_aid.exports` and the reveal endpoint
are proven now, and the page crawler has ID numbers to look for. Its migration runs only
in the test database (the app is not installed otherwise); it is a migration rather than
pytest-django's table creation because its tables point at the network's.
"""
