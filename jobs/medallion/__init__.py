"""The medallion jobs of DataLab's sample domain (orders): bronze -> silver -> gold on Delta
Lake, the data quality rules, a training and a maintenance job, and their Prefect flows.

Every job is a plain function of a SparkSession and table URIs, so the same code runs in
local mode for the unit tests and on the cluster (spark:// + s3a://) in the lab.
"""
