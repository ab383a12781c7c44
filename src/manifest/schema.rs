//! JSON Schema (todo)
