"""The Qdrant REST API seam: typed models, the ``ClusterApi`` protocol, the HTTP client."""
