"""The v1 API's requests, one module per resource: functions of a Transport that Client binds."""
