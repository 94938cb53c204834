"""Insurance approval: coverage policies evaluated for a patient, cost, and the clinic's PDF documents."""
