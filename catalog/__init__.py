"""The green project catalogue: projects, curation, the classifier, assessment (score and label), Excel
import/export, statistics and demo data. The reference taxonomies and the platform rules it applies are core
(greenmatch.reference, screening, greenwashing, carbon, rules_settings), shared with matching and the plugins."""
