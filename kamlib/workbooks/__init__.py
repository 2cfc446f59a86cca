"""Per-workbook logic: what each notebook shows, computed where tests reach it."""
