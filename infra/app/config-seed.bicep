// The starter configuration, written into App Configuration at deployment from app-config-seed.json (the file
// the package test validates). The store is in Pass-through mode, so Resource Manager writes these with the
// deployer's own data-plane role (App Configuration Data Owner, assigned in gateway.bicep).
param appConfigName string
param openAiEndpoint string
@description('SHA-256 (hex) of the starter caller key (azd preprovision hook, scripts/starter-key.mjs).')
param starterKeySha256 string

var seed = loadJsonContent('../app-config-seed.json')

resource store 'Microsoft.AppConfiguration/configurationStores@2024-05-01' existing = {
  name: appConfigName
}

// Key names hold no ':' or '/' (not allowed in resource names): the prefix is `gateway.`, one key per section.
resource keyValues 'Microsoft.AppConfiguration/configurationStores/keyValues@2024-05-01' = [
  for kv in items(seed.keyValues): {
    parent: store
    name: kv.key
    properties: {
      value: replace(replace(string(kv.value), '__AZURE_OPENAI_ENDPOINT__', openAiEndpoint), '__STARTER_KEY_SHA256__', starterKeySha256)
      contentType: 'application/json'
    }
  }
]
