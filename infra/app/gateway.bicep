// Everything of one gateway environment in its resource group: identity, Storage, Service Bus, App
// Configuration, monitoring, the Flex Consumption plan and app, its app settings and role assignments.
param location string
param tags object
param resourceToken string
param abbrs object
param principalId string
param principalType string
param instanceMemoryMB int
param maximumInstanceCount int
param httpPerInstanceConcurrency int
param alwaysReadyHttp int
param alwaysReadyDurable int
param jobMaxDeliveries int
param jobLockSeconds int

var names = {
  identity: '${abbrs.managedIdentityUserAssignedIdentities}gw-${resourceToken}'
  storage: '${abbrs.storageStorageAccounts}gw${resourceToken}'
  serviceBus: '${abbrs.serviceBusNamespaces}gw-${resourceToken}'
  appConfig: '${abbrs.appConfigurationConfigurationStores}gw-${resourceToken}'
  logs: '${abbrs.operationalInsightsWorkspaces}gw-${resourceToken}'
  insights: '${abbrs.insightsComponents}gw-${resourceToken}'
  plan: '${abbrs.webServerFarms}gw-${resourceToken}'
  app: '${abbrs.webSitesFunctions}gw-${resourceToken}'
}
var jobQueueName = 'gateway-jobs'
var deploymentContainer = 'app-package-${resourceToken}'

// Built-in role definition ids (https://learn.microsoft.com/azure/role-based-access-control/built-in-roles).
var roles = {
  storageBlobDataOwner: 'b7e6dc6d-f1e8-4753-8033-0f276bb0955b'
  storageQueueDataContributor: '974c5e8b-45b9-4653-ba55-5f855dd0fb88'
  storageTableDataContributor: '0a9a7e1f-b9d0-4cc4-a60d-0319b160aaa3'
  serviceBusDataOwner: '090c5cfd-751d-490a-894a-3ce6f1109419'
  appConfigDataReader: '516239f1-63e1-4d78-a4de-a74fb236a071'
  appConfigDataOwner: '5ae67dd6-50cb-40e7-96ff-dc2bfa4b606b'
  monitoringMetricsPublisher: '3913510d-42f4-4e42-8a64-420c390055eb'
}

resource identity 'Microsoft.ManagedIdentity/userAssignedIdentities@2023-01-31' = {
  name: names.identity
  location: location
  tags: tags
}

resource storage 'Microsoft.Storage/storageAccounts@2023-05-01' = {
  name: names.storage
  location: location
  tags: tags
  kind: 'StorageV2'
  sku: { name: 'Standard_LRS' }
  properties: {
    allowBlobPublicAccess: false
    allowSharedKeyAccess: false // identity only
    dnsEndpointType: 'Standard'
    minimumTlsVersion: 'TLS1_2'
    supportsHttpsTrafficOnly: true
    publicNetworkAccess: 'Enabled'
    networkAcls: { defaultAction: 'Allow', bypass: 'AzureServices' }
  }
}

resource blobService 'Microsoft.Storage/storageAccounts/blobServices@2023-05-01' = {
  parent: storage
  name: 'default'
}

resource containers 'Microsoft.Storage/storageAccounts/blobServices/containers@2023-05-01' = [
  for container in [deploymentContainer, 'gateway-payloads']: {
    parent: blobService
    name: container
  }
]

resource tableService 'Microsoft.Storage/storageAccounts/tableServices@2023-05-01' = {
  parent: storage
  name: 'default'
}

resource gatewayTables 'Microsoft.Storage/storageAccounts/tableServices/tables@2023-05-01' = [
  for table in ['GatewayBackendHealth', 'GatewayQuota', 'GatewayUsage', 'GatewayJobs', 'GatewayAffinity']: {
    parent: tableService
    name: table
  }
]

resource serviceBus 'Microsoft.ServiceBus/namespaces@2022-10-01-preview' = {
  name: names.serviceBus
  location: location
  tags: tags
  sku: { name: 'Standard', tier: 'Standard' } // scheduled messages and duplicate detection need Standard
  properties: {
    disableLocalAuth: true // identity only
    minimumTlsVersion: '1.2'
  }
}

resource jobQueue 'Microsoft.ServiceBus/namespaces/queues@2022-10-01-preview' = {
  parent: serviceBus
  name: jobQueueName
  properties: {
    lockDuration: 'PT${jobLockSeconds}S'
    maxDeliveryCount: jobMaxDeliveries
    requiresDuplicateDetection: true
    duplicateDetectionHistoryTimeWindow: 'PT10M'
    deadLetteringOnMessageExpiration: true
    defaultMessageTimeToLive: 'P1D'
    enablePartitioning: false
  }
}

resource appConfig 'Microsoft.AppConfiguration/configurationStores@2024-05-01' = {
  name: names.appConfig
  location: location
  tags: tags
  sku: { name: 'standard' }
  properties: {
    disableLocalAuth: true // identity only
    // Resource Manager writes the starter key-values with the deployer's own data-plane role (no access key).
    dataPlaneProxy: { authenticationMode: 'Pass-through', privateLinkDelegation: 'Disabled' }
  }
}

resource logs 'Microsoft.OperationalInsights/workspaces@2023-09-01' = {
  name: names.logs
  location: location
  tags: tags
  properties: {
    sku: { name: 'PerGB2018' }
    retentionInDays: 30
  }
}

resource insights 'Microsoft.Insights/components@2020-02-02' = {
  name: names.insights
  location: location
  tags: tags
  kind: 'web'
  properties: {
    Application_Type: 'web'
    WorkspaceResourceId: logs.id
    DisableLocalAuth: true // ingestion with Entra ID only (Monitoring Metrics Publisher below)
  }
}

resource plan 'Microsoft.Web/serverfarms@2024-04-01' = {
  name: names.plan
  location: location
  tags: tags
  kind: 'functionapp'
  sku: { tier: 'FlexConsumption', name: 'FC1' }
  properties: { reserved: true }
}

resource app 'Microsoft.Web/sites@2024-04-01' = {
  name: names.app
  location: location
  tags: union(tags, { 'azd-service-name': 'gateway' })
  kind: 'functionapp,linux'
  identity: {
    type: 'UserAssigned'
    userAssignedIdentities: { '${identity.id}': {} }
  }
  properties: {
    serverFarmId: plan.id
    httpsOnly: true
    siteConfig: { minTlsVersion: '1.2' }
    functionAppConfig: {
      deployment: {
        storage: {
          type: 'blobContainer'
          value: '${storage.properties.primaryEndpoints.blob}${deploymentContainer}'
          authentication: { type: 'UserAssignedIdentity', userAssignedIdentityResourceId: identity.id }
        }
      }
      scaleAndConcurrency: {
        instanceMemoryMB: instanceMemoryMB
        maximumInstanceCount: maximumInstanceCount
        triggers: { http: { perInstanceConcurrency: httpPerInstanceConcurrency } }
        alwaysReady: [
          { name: 'http', instanceCount: alwaysReadyHttp }
          { name: 'durable', instanceCount: alwaysReadyDurable }
        ]
      }
      runtime: { name: 'node', version: '22' }
    }
  }
}

// App settings: the fixed ones from app-settings.json (the file the package test reads), the rest from the
// resources above. The keys of resourceSettings must be exactly app-settings.json's "fromDeployment" keys.
var appSettings = loadJsonContent('../app-settings.json')
var resourceSettings = {
  AzureWebJobsStorage__accountName: storage.name
  AzureWebJobsStorage__blobServiceUri: storage.properties.primaryEndpoints.blob
  AzureWebJobsStorage__queueServiceUri: storage.properties.primaryEndpoints.queue
  AzureWebJobsStorage__tableServiceUri: storage.properties.primaryEndpoints.table
  AzureWebJobsStorage__clientId: identity.properties.clientId
  ServiceBusConnection__fullyQualifiedNamespace: '${serviceBus.name}.servicebus.windows.net'
  ServiceBusConnection__clientId: identity.properties.clientId
  AppConfigConnection__endpoint: appConfig.properties.endpoint
  AppConfigConnection__clientId: identity.properties.clientId
  AZURE_CLIENT_ID: identity.properties.clientId
  APPLICATIONINSIGHTS_CONNECTION_STRING: insights.properties.ConnectionString
  APPLICATIONINSIGHTS_AUTHENTICATION_STRING: 'ClientId=${identity.properties.clientId};Authorization=AAD'
  GATEWAY_ASYNC__MAX_DELIVERIES: string(jobMaxDeliveries)
  GATEWAY_ASYNC__VISIBILITY_TIMEOUT_MS: string(jobLockSeconds * 1000)
}

resource settings 'Microsoft.Web/sites/config@2024-04-01' = {
  parent: app
  name: 'appsettings'
  properties: union(appSettings.settings, resourceSettings)
  // The host reads its connections at start: grant the roles first.
  dependsOn: [storageAssignments, serviceBusAssignment, appConfigAssignment, insightsAssignment]
}

// Role assignments of the app's identity: exactly what the identity-based connections need.
var storageRoles = [roles.storageBlobDataOwner, roles.storageQueueDataContributor, roles.storageTableDataContributor]
resource storageAssignments 'Microsoft.Authorization/roleAssignments@2022-04-01' = [
  for role in storageRoles: {
    name: guid(storage.id, identity.id, role)
    scope: storage
    properties: {
      principalId: identity.properties.principalId
      principalType: 'ServicePrincipal'
      roleDefinitionId: subscriptionResourceId('Microsoft.Authorization/roleDefinitions', role)
    }
  }
]

// Data Owner on the job queue only: receive and send (trigger, enqueue activity, delayed retries), and
// read the queue's runtime properties, which the Service Bus extension's scaler needs for the message count
// (with Data Receiver alone it falls back to peeking, and Flex scales the worker late).
resource serviceBusAssignment 'Microsoft.Authorization/roleAssignments@2022-04-01' = {
  name: guid(jobQueue.id, identity.id, roles.serviceBusDataOwner)
  scope: jobQueue
  properties: {
    principalId: identity.properties.principalId
    principalType: 'ServicePrincipal'
    roleDefinitionId: subscriptionResourceId('Microsoft.Authorization/roleDefinitions', roles.serviceBusDataOwner)
  }
}

resource appConfigAssignment 'Microsoft.Authorization/roleAssignments@2022-04-01' = {
  name: guid(appConfig.id, identity.id, roles.appConfigDataReader)
  scope: appConfig
  properties: {
    principalId: identity.properties.principalId
    principalType: 'ServicePrincipal'
    roleDefinitionId: subscriptionResourceId('Microsoft.Authorization/roleDefinitions', roles.appConfigDataReader)
  }
}

// The deployer writes the starter configuration (Pass-through) and edits it afterwards (docs/deploy.md).
resource deployerAppConfigAssignment 'Microsoft.Authorization/roleAssignments@2022-04-01' = if (!empty(principalId)) {
  name: guid(appConfig.id, principalId, roles.appConfigDataOwner)
  scope: appConfig
  properties: {
    principalId: principalId
    principalType: principalType
    roleDefinitionId: subscriptionResourceId('Microsoft.Authorization/roleDefinitions', roles.appConfigDataOwner)
  }
}

resource insightsAssignment 'Microsoft.Authorization/roleAssignments@2022-04-01' = {
  name: guid(insights.id, identity.id, roles.monitoringMetricsPublisher)
  scope: insights
  properties: {
    principalId: identity.properties.principalId
    principalType: 'ServicePrincipal'
    roleDefinitionId: subscriptionResourceId('Microsoft.Authorization/roleDefinitions', roles.monitoringMetricsPublisher)
  }
}

output functionAppName string = app.name
output url string = 'https://${app.properties.defaultHostName}'
output identityPrincipalId string = identity.properties.principalId
output identityClientId string = identity.properties.clientId
output appConfigName string = appConfig.name
output appConfigEndpoint string = appConfig.properties.endpoint
output serviceBusNamespace string = '${serviceBus.name}.servicebus.windows.net'
output storageAccountName string = storage.name
output appInsightsConnectionString string = insights.properties.ConnectionString
