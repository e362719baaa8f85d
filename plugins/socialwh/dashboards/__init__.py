"""Dashboards from one spec (`dashboards/`): a local Streamlit app and Metabase provisioning."""
