"""Calendar adapters: Microsoft Graph (msgraph-sdk) and the local calendar in Sopu's database."""
