// The AI gateway on Azure Functions Flex Consumption, identity-based connections only, no keys anywhere.
// `azd up` from the repository root (azure.yaml), or:
//   az deployment sub create -l <region> -f infra/main.bicep -p infra/main.parameters.json
// Laid out like Azure-Samples/functions-quickstart-typescript-azd (subscription scope, a resource group per
// environment, the region allow-list, a user-assigned identity); docs/deploy.md says what it creates and why.
targetScope = 'subscription'

@minLength(1)
@maxLength(64)
@description('Name of the environment (azd sets it); names the resource group and seeds the unique resource names.')
param environmentName string

@minLength(1)
@description('Region of every resource. Flex Consumption runs only in some regions: this list follows the Flex Consumption quickstart template (check `az functionapp list-flexconsumption-locations` for new ones).')
@allowed([
  'australiaeast'
  'australiasoutheast'
  'brazilsouth'
  'canadacentral'
  'centralindia'
  'centralus'
  'eastasia'
  'eastus'
  'eastus2'
  'eastus2euap'
  'francecentral'
  'germanywestcentral'
  'italynorth'
  'japaneast'
  'koreacentral'
  'northcentralus'
  'northeurope'
  'norwayeast'
  'southafricanorth'
  'southcentralus'
  'southeastasia'
  'southindia'
  'spaincentral'
  'swedencentral'
  'uaenorth'
  'uksouth'
  'ukwest'
  'westcentralus'
  'westeurope'
  'westus'
  'westus2'
  'westus3'
])
@metadata({ azd: { type: 'location' } })
param location string

@description('Resource ID of the Azure OpenAI (or Azure AI Services) account the gateway serves. The app\'s identity gets Cognitive Services OpenAI User on it, and its endpoint goes into the starter configuration. `az cognitiveservices account show -n <name> -g <group> --query id -o tsv`.')
param azureOpenAiResourceId string

@description('SHA-256 (hex) of the starter caller key; azure.yaml\'s preprovision hook makes the key (scripts/starter-key.mjs).')
@minLength(64)
@maxLength(64)
param starterKeySha256 string

@description('Write the starter configuration into App Configuration. azure.yaml\'s postprovision hook turns it off after the first provision, so later `azd up` runs never overwrite what operators changed since.')
param seedConfiguration bool = true

@description('Object id of who deploys (azd sets it): gets App Configuration Data Owner to write the starter configuration and to edit it later.')
param principalId string = deployer().objectId

@description('Type of `principalId`: User, or ServicePrincipal for a pipeline.')
@allowed(['User', 'ServicePrincipal', 'Group'])
param principalType string = 'User'

@description('Memory per instance (MB): 512, 2048 or 4096.')
@allowed([512, 2048, 4096])
param instanceMemoryMB int = 2048

@description('Upper bound of instances Flex may scale out to.')
@minValue(40)
@maxValue(1000)
param maximumInstanceCount int = 100

@description('HTTP requests one instance takes at once (the proxy streams, so most of this is waiting on backends).')
@minValue(1)
@maxValue(1000)
param httpPerInstanceConcurrency int = 16

@description('Always-ready instances for the HTTP trigger group (no cold start on the hot path). 0 = scale from zero.')
@minValue(0)
param alwaysReadyHttp int = 1

@description('Always-ready instances for the durable group (orchestrations, entities, activities): a waiting request is granted without an instance start.')
@minValue(0)
param alwaysReadyDurable int = 1

@description('Must equal the gateway config async.maxDeliveries (default 5): the queue dead-letters past it.')
@minValue(1)
@maxValue(100)
param jobMaxDeliveries int = 5

@description('Queue lock in seconds; also set as async.visibilityTimeoutMs (the run lease the worker renews at half).')
@minValue(5)
@maxValue(300)
param jobLockSeconds int = 60

var abbrs = loadJsonContent('abbreviations.json')
// Lower-case: azd allows upper-case environment names, Storage and most resource names do not.
var envName = toLower(environmentName)
var resourceToken = toLower(uniqueString(subscription().id, envName, location))
var tags = { 'azd-env-name': environmentName }
// /subscriptions/{sub}/resourceGroups/{group}/providers/Microsoft.CognitiveServices/accounts/{name}
var openAi = split(azureOpenAiResourceId, '/')

resource rg 'Microsoft.Resources/resourceGroups@2024-03-01' = {
  name: '${abbrs.resourcesResourceGroups}${envName}'
  location: location
  tags: tags
}

module openAiAccess 'app/openai-access.bicep' = {
  name: 'openai-access'
  scope: resourceGroup(openAi[2], openAi[4])
  params: {
    accountName: openAi[8]
    principalId: gateway.outputs.identityPrincipalId
  }
}

module gateway 'app/gateway.bicep' = {
  name: 'gateway'
  scope: rg
  params: {
    location: location
    tags: tags
    resourceToken: resourceToken
    abbrs: abbrs
    principalId: principalId
    principalType: principalType
    instanceMemoryMB: instanceMemoryMB
    maximumInstanceCount: maximumInstanceCount
    httpPerInstanceConcurrency: httpPerInstanceConcurrency
    alwaysReadyHttp: alwaysReadyHttp
    alwaysReadyDurable: alwaysReadyDurable
    jobMaxDeliveries: jobMaxDeliveries
    jobLockSeconds: jobLockSeconds
  }
}

module seed 'app/config-seed.bicep' = if (seedConfiguration) {
  name: 'config-seed'
  scope: rg
  params: {
    appConfigName: gateway.outputs.appConfigName
    openAiEndpoint: openAiAccess.outputs.endpoint
    starterKeySha256: starterKeySha256
  }
}

// azd reads these into the environment (`azd env get-values`); docs/deploy.md uses them in its steps.
output AZURE_LOCATION string = location
output AZURE_TENANT_ID string = tenant().tenantId
output AZURE_RESOURCE_GROUP string = rg.name
output AZURE_FUNCTION_APP_NAME string = gateway.outputs.functionAppName
output SERVICE_GATEWAY_NAME string = gateway.outputs.functionAppName
output GATEWAY_URL string = gateway.outputs.url
output AZURE_CLIENT_ID string = gateway.outputs.identityClientId
output APP_CONFIGURATION_ENDPOINT string = gateway.outputs.appConfigEndpoint
output AZURE_OPENAI_ENDPOINT string = openAiAccess.outputs.endpoint
output SERVICE_BUS_NAMESPACE string = gateway.outputs.serviceBusNamespace
output AZURE_STORAGE_ACCOUNT string = gateway.outputs.storageAccountName
output APPLICATIONINSIGHTS_CONNECTION_STRING string = gateway.outputs.appInsightsConnectionString
