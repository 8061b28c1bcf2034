"""GANplifying: quantile cells, equivalent events, fits, saturation, tables and figures."""
