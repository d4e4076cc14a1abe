// JSONSchema module
