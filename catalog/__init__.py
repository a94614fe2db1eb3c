"""The green project catalogue: reference taxonomies, projects, curation and assessment."""
