"""Rebuild the field pipeline shipped in the package (parsers/fields/recogniser).

Run after changing a vocabulary or grammar in parsers/fields; tests/test_fields.py fails
while the shipped pipeline and a fresh build disagree.
"""

from parsers.fields.pipeline import PIPELINE_DIR, build_pipeline

if __name__ == "__main__":
    build_pipeline().to_disk(PIPELINE_DIR)
    print(f"wrote the field pipeline to {PIPELINE_DIR}")
