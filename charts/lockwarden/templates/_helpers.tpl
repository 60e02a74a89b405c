{{/* _helpers.tpl - names, labels and shared fragments of the lockwarden chart. */}}

{{/* Chart name, or nameOverride. */}}
{{- define "lockwarden.name" -}}
{{- default .Chart.Name .Values.nameOverride | trunc 63 | trimSuffix "-" -}}
{{- end -}}

{{/* "<release>-<chart>", or the release name when it already contains the chart name. */}}
{{- define "lockwarden.fullname" -}}
{{- if .Values.fullnameOverride -}}
{{- .Values.fullnameOverride | trunc 63 | trimSuffix "-" -}}
{{- else -}}
{{- $name := default .Chart.Name .Values.nameOverride -}}
{{- if contains $name .Release.Name -}}
{{- .Release.Name | trunc 63 | trimSuffix "-" -}}
{{- else -}}
{{- printf "%s-%s" .Release.Name $name | trunc 63 | trimSuffix "-" -}}
{{- end -}}
{{- end -}}
{{- end -}}

{{/* Labels on every resource. */}}
{{- define "lockwarden.labels" -}}
helm.sh/chart: {{ printf "%s-%s" .Chart.Name .Chart.Version | replace "+" "_" | trunc 63 | trimSuffix "-" }}
app.kubernetes.io/name: {{ include "lockwarden.name" . }}
app.kubernetes.io/instance: {{ .Release.Name }}
app.kubernetes.io/version: {{ .Chart.AppVersion | quote }}
app.kubernetes.io/managed-by: {{ .Release.Service }}
{{- with .Values.commonLabels }}
{{ include "lockwarden.stringMap" . }}
{{- end }}
{{- end -}}

{{/*
A map of labels or annotations with every key and value quoted: Kubernetes wants strings,
and `--set a.b=true` or `: 1` in a values file would otherwise give a bool or a number.
*/}}
{{- define "lockwarden.stringMap" -}}
{{- range $k, $v := . }}
{{ $k | quote }}: {{ $v | toString | quote }}
{{- end }}
{{- end -}}

{{/* Selector labels of one component: include "lockwarden.selectorLabels" (list $ "webhook") */}}
{{- define "lockwarden.selectorLabels" -}}
{{- $top := index . 0 -}}
app.kubernetes.io/name: {{ include "lockwarden.name" $top }}
app.kubernetes.io/instance: {{ $top.Release.Name }}
app.kubernetes.io/component: {{ index . 1 }}
{{- end -}}

{{/* Image reference: digest wins over tag; the tag defaults to appVersion. */}}
{{- define "lockwarden.image" -}}
{{- if .Values.image.digest -}}
{{- printf "%s@%s" .Values.image.repository .Values.image.digest -}}
{{- else -}}
{{- printf "%s:%s" .Values.image.repository (default .Chart.AppVersion .Values.image.tag | toString) -}}
{{- end -}}
{{- end -}}

{{- define "lockwarden.webhook.serviceName" -}}
{{- printf "%s-webhook" (include "lockwarden.fullname" .) | trunc 63 | trimSuffix "-" -}}
{{- end -}}

{{- define "lockwarden.webhook.tlsSecret" -}}
{{- default (printf "%s-webhook-tls" (include "lockwarden.fullname" .)) .Values.webhook.tls.secretName -}}
{{- end -}}

{{/* Name of both webhook configurations (cluster-scoped, so the namespace is part of it). */}}
{{- define "lockwarden.webhook.configName" -}}
{{- printf "%s-%s" (include "lockwarden.fullname" .) .Release.Namespace | trunc 63 | trimSuffix "-" -}}
{{- end -}}

{{- define "lockwarden.webhook.serviceAccountName" -}}
{{- default (printf "%s-webhook" (include "lockwarden.fullname" .)) .Values.webhook.serviceAccount.name -}}
{{- end -}}

{{- define "lockwarden.executor.serviceAccountName" -}}
{{- default (printf "%s-executor" (include "lockwarden.fullname" .)) .Values.executor.serviceAccount.name -}}
{{- end -}}

{{- define "lockwarden.executor.leaseName" -}}
{{- default (printf "%s-executor" (include "lockwarden.fullname" .)) .Values.executor.leaseName -}}
{{- end -}}

{{- define "lockwarden.policiesConfigMap" -}}
{{- printf "%s-policies" (include "lockwarden.fullname" .) -}}
{{- end -}}

{{/* The Secret with the S3 credentials the executor gets as environment, or empty. */}}
{{- define "lockwarden.s3Secret" -}}
{{- if .Values.s3.existingSecret -}}
{{- .Values.s3.existingSecret -}}
{{- else if .Values.s3.createSecret -}}
{{- printf "%s-s3" (include "lockwarden.fullname" .) -}}
{{- end -}}
{{- end -}}

{{/* True (non-empty) when lockwarden's own jobs make and renew the serving certificate. */}}
{{- define "lockwarden.certs.selfManaged" -}}
{{- if and .Values.certs.generate (not .Values.certManager.enabled) -}}true{{- end -}}
{{- end -}}

{{- define "lockwarden.certs.serviceAccountName" -}}
{{- printf "%s-certs" (include "lockwarden.fullname" .) -}}
{{- end -}}

{{/*
The certificate command shared by the hook jobs and the renewal CronJob, as a YAML list.
include "lockwarden.certs.command" (list $ true): the second element adds the
--patch-webhook flags.
*/}}
{{- define "lockwarden.certs.command" -}}
{{- $top := index . 0 -}}
{{- $patch := index . 1 -}}
- certs
- --service
- {{ include "lockwarden.webhook.serviceName" $top }}
- --namespace
- {{ $top.Release.Namespace }}
- --out
- /scratch/certs
- --days
- {{ $top.Values.certs.days | quote }}
- --renew-within
- {{ $top.Values.certs.renewWithinDays | quote }}
- --secret
- {{ printf "%s/%s" $top.Release.Namespace (include "lockwarden.webhook.tlsSecret" $top) }}
{{- if $patch }}
{{- if $top.Values.webhook.validating.enabled }}
- --patch-webhook
- {{ printf "validating:%s" (include "lockwarden.webhook.configName" $top) }}
{{- end }}
{{- if $top.Values.webhook.mutating.enabled }}
- --patch-webhook
- {{ printf "mutating:%s" (include "lockwarden.webhook.configName" $top) }}
{{- end }}
{{- end }}
{{- end -}}

{{/*
Pod spec of a certificate job (hook or CronJob): list $ SERVICE_ACCOUNT PATCH.
*/}}
{{- define "lockwarden.certs.podSpec" -}}
{{- $top := index . 0 -}}
serviceAccountName: {{ index . 1 }}
restartPolicy: OnFailure
{{- with $top.Values.imagePullSecrets }}
imagePullSecrets:
  {{- toYaml . | nindent 2 }}
{{- end }}
securityContext:
  {{- toYaml $top.Values.podSecurityContext | nindent 2 }}
containers:
  - name: certs
    image: {{ include "lockwarden.image" $top }}
    imagePullPolicy: {{ $top.Values.image.pullPolicy }}
    args:
      {{- include "lockwarden.certs.command" (list $top (index . 2)) | nindent 6 }}
    securityContext:
      {{- toYaml $top.Values.containerSecurityContext | nindent 6 }}
    resources:
      {{- toYaml $top.Values.certs.resources | nindent 6 }}
    volumeMounts:
      - name: work
        mountPath: /scratch
volumes:
  - name: work
    emptyDir:
      medium: Memory
      sizeLimit: 16Mi
{{- end -}}

{{/*
The namespaced read rules of the executor's capture role (get/list only), plus the one
write it needs there: VolumeSnapshots.
*/}}
{{- define "lockwarden.executor.captureRules" -}}
{{- if and .Values.executor.rbac.readAllTypes (not .Values.executor.rbac.captureSecrets) }}
{{- fail "executor.rbac.readAllTypes reads Secrets too: it cannot go with captureSecrets=false" }}
{{- end }}
{{- if .Values.executor.rbac.readAllTypes }}
# executor.rbac.readAllTypes: every type, custom resources included (get/list only).
- apiGroups: ["*"]
  resources: ["*"]
  verbs: [get, list]
{{- else }}
# Every namespaced built-in type a restore point holds (Events, Endpoints, EndpointSlices
# and Leases are never captured).
- apiGroups: [""]
  resources:
    - configmaps
    - limitranges
    - persistentvolumeclaims
    - pods
    - podtemplates
    - replicationcontrollers
    - resourcequotas
    {{- if .Values.executor.rbac.captureSecrets }}
    - secrets
    {{- end }}
    - serviceaccounts
    - services
  verbs: [get, list]
- apiGroups: [apps]
  resources: [controllerrevisions, daemonsets, deployments, replicasets, statefulsets]
  verbs: [get, list]
- apiGroups: [batch]
  resources: [cronjobs, jobs]
  verbs: [get, list]
- apiGroups: [autoscaling]
  resources: [horizontalpodautoscalers]
  verbs: [get, list]
- apiGroups: [policy]
  resources: [poddisruptionbudgets]
  verbs: [get, list]
- apiGroups: [networking.k8s.io]
  resources: [ingresses, networkpolicies]
  verbs: [get, list]
- apiGroups: [rbac.authorization.k8s.io]
  resources: [rolebindings, roles]
  verbs: [get, list]
- apiGroups: [storage.k8s.io]
  resources: [csistoragecapacities]
  verbs: [get, list]
{{- end }}
- apiGroups: [snapshot.storage.k8s.io]
  resources: [volumesnapshots]
  verbs: [get, list, create, delete]
{{- range .Values.executor.rbac.extraRules }}
{{- $verbs := default list .verbs }}
{{- if or (has "*" $verbs) (has "*" (default list .resources)) (has "*" (default list .apiGroups)) }}
{{- fail "executor.rbac.extraRules: \"*\" is not allowed; list the API groups, resources and verbs" }}
{{- end }}
- {{ toYaml . | nindent 2 | trim }}
{{- end }}
{{- end -}}

{{/*
The policy files of the ConfigMap, as YAML {file name: text}: the chart's
files/policies/*.yaml, then policies.inline. Helm's Glob yields bytes, hence toString.
*/}}
{{- define "lockwarden.policyData" -}}
{{- $data := dict -}}
{{- if .Values.policies.fromChartFiles -}}
{{- range $path, $content := .Files.Glob "files/policies/*.yaml" -}}
{{- $_ := set $data (base $path) (toString $content) -}}
{{- end -}}
{{- end -}}
{{- range $name, $content := .Values.policies.inline -}}
{{- $_ := set $data $name (toString $content) -}}
{{- end -}}
{{- /* The final newline keeps the last file's own final newline through fromYaml. */ -}}
{{- toYaml $data -}}{{ "\n" }}
{{- end -}}

{{/*
Names of the Secrets the BackupPolicies in the ConfigMap refer to
(spec.location.credentialsSecret, spec.encryption.keySecret), one per line: the executor
may read exactly these in its namespace.
*/}}
{{- define "lockwarden.policySecrets" -}}
{{- range $name, $content := fromYaml (include "lockwarden.policyData" .) }}
{{- range $doc := splitList "\n---" $content }}
{{- $obj := fromYaml $doc }}
{{- if eq (toString (dig "kind" "" $obj)) "BackupPolicy" }}
{{- with dig "spec" "location" "credentialsSecret" "" $obj }}
{{ . }}
{{- end }}
{{- with dig "spec" "encryption" "keySecret" "" $obj }}
{{ . }}
{{- end }}
{{- end }}
{{- end }}
{{- end }}
{{- end -}}
