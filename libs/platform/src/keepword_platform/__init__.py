"""Plumbing shared by Keepword's services: settings, configuration, logging, Kafka, PostgreSQL."""
