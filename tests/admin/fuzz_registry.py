"""The administrator's and importer's forms and the fuzz test that covers each (tests/admin/test_admin_fuzz.py),
added to FUZZED_FORMS in tests/fuzz/test_forms_fuzz.py."""

ADMIN_FUZZED_FORMS = {
    "AreaForm": "tests/admin/test_admin_fuzz.py::test_fuzz_area_forms",
    "RenameAreaForm": "tests/admin/test_admin_fuzz.py::test_fuzz_area_forms",
    "StaffForm": "tests/admin/test_admin_fuzz.py::test_fuzz_staff_forms",
    "MoveStaffForm": "tests/admin/test_admin_fuzz.py::test_fuzz_staff_forms",
    "FirstPasswordForm": "tests/admin/test_admin_fuzz.py::test_fuzz_first_password",
    "UploadSheetForm": "tests/admin/test_admin_fuzz.py::test_fuzz_sheet_import",
    "ColumnMappingForm": "tests/admin/test_admin_fuzz.py::test_fuzz_sheet_import",
    "ConfirmImportForm": "tests/admin/test_admin_fuzz.py::test_fuzz_sheet_import",
    "ConfirmForm": "no fields but the CSRF token and the button",
}
