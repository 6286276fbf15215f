// The AI gateway on Azure Functions Flex Consumption, with identity-based connections only.
// Deploy: `azd up` (infra/azure.yaml) or `az deployment group create -g <rg> -f infra/main.bicep -p infra/main.parameters.json`.
// See docs/architecture.md ("Infrastructure") for what each resource and role assignment is for.
targetScope = 'resourceGroup'

@description('Short environment name; used in resource names (azd sets it).')
@minLength(2)
@maxLength(16)
param environmentName string

@description('Region for every resource. Flex Consumption must be available there.')
param location string = resourceGroup().location

@description('Memory per instance (MB): 512, 2048 or 4096. Flex per-instance HTTP concurrency defaults follow it.')
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

@description('Always-ready instances for the HTTP group (no cold start on the hot path). 0 = scale from zero.')
@minValue(0)
param alwaysReadyHttp int = 1

@description('Always-ready instances for the durable group (orchestrations, entities, activities).')
@minValue(0)
param alwaysReadyDurable int = 0

@description('Must equal the gateway config async.maxDeliveries (default 5): the queue dead-letters past it.')
@minValue(1)
@maxValue(100)
param jobMaxDeliveries int = 5

@description('Queue lock in seconds; also set as async.visibilityTimeoutMs (the run lease the worker renews at half).')
@minValue(5)
@maxValue(300)
param jobLockSeconds int = 60

var token = toLower(uniqueString(subscription().id, resourceGroup().id, environmentName))
var names = {
  identity: 'id-gw-${environmentName}'
  storage: take('stgw${replace(environmentName, '-', '')}${token}', 24)
  serviceBus: 'sb-gw-${environmentName}-${token}'
  appConfig: 'appcs-gw-${environmentName}-${token}'
  logs: 'log-gw-${environmentName}'
  insights: 'appi-gw-${environmentName}'
  plan: 'asp-gw-${environmentName}'
  app: 'func-gw-${environmentName}-${token}'
}
var jobQueueName = 'gateway-jobs'
var deploymentContainer = 'app-package'

// Built-in role definition ids (https://learn.microsoft.com/azure/role-based-access-control/built-in-roles).
var roles = {
  storageBlobDataOwner: 'b7e6dc6d-f1e8-4753-8033-0f276bb0955b'      // host storage (leases), durable task hub blobs, deployment package
  storageQueueDataContributor: '974c5e8b-45b9-4653-ba55-5f855dd0fb88' // durable task hub control and work-item queues
  storageTableDataContributor: '0a9a7e1f-b9d0-4cc4-a60d-0319b160aaa3' // durable history/instances, gateway tables
  serviceBusDataReceiver: '4f6d3b9b-027b-4f4c-9142-0e5a2a2247e0'     // longCallWorker trigger
  serviceBusDataSender: '69a216fc-b8fb-44d8-bc22-1f3c2cd27a39'       // enqueueJob activity, delayed retries
  appConfigDataReader: '516239f1-63e1-4d78-a4de-a74fb236a071'        // configuration and sentinel
  monitoringMetricsPublisher: '3913510d-42f4-4e42-8a64-420c390055eb' // Entra-authenticated telemetry ingestion
}

resource identity 'Microsoft.ManagedIdentity/userAssignedIdentities@2023-01-31' = {
  name: names.identity
  location: location
}

resource storage 'Microsoft.Storage/storageAccounts@2023-05-01' = {
  name: names.storage
  location: location
  kind: 'StorageV2'
  sku: { name: 'Standard_LRS' }
  properties: {
    allowBlobPublicAccess: false
    allowSharedKeyAccess: false // identity only
    minimumTlsVersion: 'TLS1_2'
    supportsHttpsTrafficOnly: true
  }
}

resource blobService 'Microsoft.Storage/storageAccounts/blobServices@2023-05-01' = {
  parent: storage
  name: 'default'
}

resource packageContainer 'Microsoft.Storage/storageAccounts/blobServices/containers@2023-05-01' = {
  parent: blobService
  name: deploymentContainer
}

resource payloadContainer 'Microsoft.Storage/storageAccounts/blobServices/containers@2023-05-01' = {
  parent: blobService
  name: 'gateway-payloads'
}

resource tableService 'Microsoft.Storage/storageAccounts/tableServices@2023-05-01' = {
  parent: storage
  name: 'default'
}

resource gatewayTables 'Microsoft.Storage/storageAccounts/tableServices/tables@2023-05-01' = [for table in ['GatewayBackendHealth', 'GatewayQuota', 'GatewayUsage', 'GatewayJobs']: {
  parent: tableService
  name: table
}]

resource serviceBus 'Microsoft.ServiceBus/namespaces@2022-10-01-preview' = {
  name: names.serviceBus
  location: location
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

resource appConfig 'Microsoft.AppConfiguration/configurationStores@2023-03-01' = {
  name: names.appConfig
  location: location
  sku: { name: 'standard' }
  properties: {
    disableLocalAuth: true
  }
}

resource logs 'Microsoft.OperationalInsights/workspaces@2023-09-01' = {
  name: names.logs
  location: location
  properties: {
    sku: { name: 'PerGB2018' }
    retentionInDays: 30
  }
}

resource insights 'Microsoft.Insights/components@2020-02-02' = {
  name: names.insights
  location: location
  kind: 'web'
  properties: {
    Application_Type: 'web'
    WorkspaceResourceId: logs.id
    DisableLocalAuth: true // ingestion with Entra ID (the identity's Monitoring Metrics Publisher role)
  }
}

resource plan 'Microsoft.Web/serverfarms@2024-04-01' = {
  name: names.plan
  location: location
  kind: 'functionapp'
  sku: { tier: 'FlexConsumption', name: 'FC1' }
  properties: { reserved: true }
}

resource app 'Microsoft.Web/sites@2024-04-01' = {
  name: names.app
  location: location
  kind: 'functionapp,linux'
  tags: { 'azd-service-name': 'gateway' }
  identity: {
    type: 'UserAssigned'
    userAssignedIdentities: { '${identity.id}': {} }
  }
  properties: {
    serverFarmId: plan.id
    httpsOnly: true
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
    siteConfig: {
      minTlsVersion: '1.2'
      appSettings: [
        { name: 'AzureWebJobsStorage__accountName', value: storage.name }
        { name: 'AzureWebJobsStorage__blobServiceUri', value: storage.properties.primaryEndpoints.blob }
        { name: 'AzureWebJobsStorage__queueServiceUri', value: storage.properties.primaryEndpoints.queue }
        { name: 'AzureWebJobsStorage__tableServiceUri', value: storage.properties.primaryEndpoints.table }
        { name: 'AzureWebJobsStorage__credential', value: 'managedidentity' }
        { name: 'AzureWebJobsStorage__clientId', value: identity.properties.clientId }
        { name: 'ServiceBusConnection__fullyQualifiedNamespace', value: '${serviceBus.name}.servicebus.windows.net' }
        { name: 'ServiceBusConnection__credential', value: 'managedidentity' }
        { name: 'ServiceBusConnection__clientId', value: identity.properties.clientId }
        { name: 'AppConfigConnection__endpoint', value: appConfig.properties.endpoint }
        { name: 'AppConfigConnection__credential', value: 'managedidentity' }
        { name: 'AppConfigConnection__clientId', value: identity.properties.clientId }
        { name: 'APPLICATIONINSIGHTS_CONNECTION_STRING', value: insights.properties.ConnectionString }
        { name: 'APPLICATIONINSIGHTS_AUTHENTICATION_STRING', value: 'Authorization=AAD;ClientId=${identity.properties.clientId}' }
        { name: 'GATEWAY_CONFIG_FILE', value: 'gateway.config.json' }
        { name: 'GATEWAY_FUNCTIONS__STORES', value: 'azure' }
        { name: 'GATEWAY_FUNCTIONS__JOB_QUEUE', value: jobQueueName }
        { name: 'GATEWAY_FUNCTIONS__DURABLE_JOBS', value: 'true' }
        { name: 'GATEWAY_FUNCTIONS__DURABLE_ALL_REQUESTS', value: 'false' }
        { name: 'GATEWAY_FUNCTIONS__LEDGER_REPORT_INTERVAL_MS', value: '10000' }
        { name: 'GATEWAY_ASYNC__MAX_DELIVERIES', value: string(jobMaxDeliveries) }
        { name: 'GATEWAY_ASYNC__VISIBILITY_TIMEOUT_MS', value: string(jobLockSeconds * 1000) }
      ]
    }
  }
}

// Role assignments: the identity-based connections above need exactly these.
var storageRoles = [roles.storageBlobDataOwner, roles.storageQueueDataContributor, roles.storageTableDataContributor]
resource storageAssignments 'Microsoft.Authorization/roleAssignments@2022-04-01' = [for role in storageRoles: {
  name: guid(storage.id, identity.id, role)
  scope: storage
  properties: {
    principalId: identity.properties.principalId
    principalType: 'ServicePrincipal'
    roleDefinitionId: subscriptionResourceId('Microsoft.Authorization/roleDefinitions', role)
  }
}]

var serviceBusRoles = [roles.serviceBusDataReceiver, roles.serviceBusDataSender]
resource serviceBusAssignments 'Microsoft.Authorization/roleAssignments@2022-04-01' = [for role in serviceBusRoles: {
  name: guid(serviceBus.id, identity.id, role)
  scope: serviceBus
  properties: {
    principalId: identity.properties.principalId
    principalType: 'ServicePrincipal'
    roleDefinitionId: subscriptionResourceId('Microsoft.Authorization/roleDefinitions', role)
  }
}]

resource appConfigAssignment 'Microsoft.Authorization/roleAssignments@2022-04-01' = {
  name: guid(appConfig.id, identity.id, roles.appConfigDataReader)
  scope: appConfig
  properties: {
    principalId: identity.properties.principalId
    principalType: 'ServicePrincipal'
    roleDefinitionId: subscriptionResourceId('Microsoft.Authorization/roleDefinitions', roles.appConfigDataReader)
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

output AZURE_FUNCTION_APP_NAME string = app.name
output GATEWAY_URL string = 'https://${app.properties.defaultHostName}'
output SERVICE_BUS_NAMESPACE string = '${serviceBus.name}.servicebus.windows.net'
output STORAGE_ACCOUNT string = storage.name
output APP_CONFIGURATION_ENDPOINT string = appConfig.properties.endpoint
output IDENTITY_CLIENT_ID string = identity.properties.clientId
