"""Validates an OpenAPI document with openapi-spec-validator (PyPI), run from the venv that
scripts/test-tools.sh makes. Prints each error and exits 1 if the document is not valid OpenAPI.

usage: validate_openapi.py FILE
"""
import sys

from openapi_spec_validator import OpenAPIV31SpecValidator
from openapi_spec_validator.readers import read_from_filename


def main() -> int:
    document, base_uri = read_from_filename(sys.argv[1])
    if document.get("openapi", "").split(".")[:2] != ["3", "1"]:
        print(f"{sys.argv[1]}: not OpenAPI 3.1 (openapi: {document.get('openapi')!r})")
        return 1
    try:
        errors = list(OpenAPIV31SpecValidator(document, base_uri=base_uri).iter_errors())
    except Exception as error:  # an unresolvable $ref is raised, not reported
        print(f"{sys.argv[1]}: {type(error).__name__}: {str(error)[:300]}")
        return 1
    for error in errors:
        print(f"{sys.argv[1]}: {'/'.join(str(part) for part in error.path)}: {error.message}")
    if errors:
        return 1
    print(f"{sys.argv[1]}: valid OpenAPI {document['openapi']}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
