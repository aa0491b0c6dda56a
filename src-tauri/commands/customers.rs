//! The Customers screen (admin): the list, add and edit, CSV import and export.
