int cm_config_placeholder_(void);
