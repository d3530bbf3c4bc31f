"""The studio's names as the platform sees them: they name the settings file (QSettings) and the user data folder
(QStandardPaths, where runs are kept). Changing them moves both, so they live here once, with no imports: the
application start-up and the settings module both read them without importing each other."""

APP_NAME = "MNIST Studio"
ORG_NAME = "MNIST Studio"
