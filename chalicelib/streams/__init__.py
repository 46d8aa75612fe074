"""The reactions on the complaints table's stream: records -> domain events -> registered reactions."""
