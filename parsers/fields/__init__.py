"""Recognisers that turn cell text into normalised fields: codes, deadlines, officers, status.

`pipeline.recognise` runs them as one spaCy pipeline over a document's records. Nothing is
imported here, so that ``parsers.fields.codes`` stays cheap for code that never loads spaCy.
"""
