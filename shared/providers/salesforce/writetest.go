package salesforce

import (
	"context"
	"net/http"

	"github.com/sofie/integrations/shared/providers"
)

// The write test's item is a Task with the subject "Integration test",
// created through the REST API's sObject Basic Information resource (201
// Created with {"id", "success", "errors"}; the Task's status and priority
// take the org's defaults, and it is owned by the connected user) and
// deleted through sObject Rows (204 No Content), on the account's own
// instance, checked like the probes' (InstanceURL). A deleted Task goes to
// the org's Recycle Bin, as one deleted in Salesforce would.
// Docs: https://developer.salesforce.com/docs/atlas.en-us.api_rest.meta/api_rest/dome_sobject_create.htm
// Docs: https://developer.salesforce.com/docs/atlas.en-us.api_rest.meta/api_rest/dome_delete_record.htm
// Docs: https://developer.salesforce.com/docs/atlas.en-us.object_reference.meta/object_reference/sforce_api_objects_task.htm

// testTaskPath is the Task sObject under the account's REST API.
const testTaskPath = "/services/data/" + APIVersion + "/sobjects/Task/"

// CreateTestItem implements providers.Dialect: the CRM capability's Task.
func (d *dialect) CreateTestItem(ctx context.Context, call providers.Caller, c providers.Capability, w providers.TestWrite) (providers.Answer, string, error) {
	if c != providers.CRM {
		return providers.Answer{}, "", providers.ErrNoTestItem
	}
	base, err := InstanceURL(w.Account.InstanceURL)
	if err != nil {
		return providers.Answer{}, "", providers.ErrNoInstance
	}
	const body = `{"Subject":` + providers.TestItemSubjectJSON + `,"Description":` + providers.TestItemNoteJSON + `}`
	a, err := call.Send(ctx, http.MethodPost, base+testTaskPath, w.Token, "application/json", []byte(body))
	if err != nil || !a.OK() {
		return a, "", err
	}
	return a, providers.CreatedID(a.Body, "id", isRecordID), nil
}

// DeleteTestItem implements providers.Dialect.
func (*dialect) DeleteTestItem(ctx context.Context, call providers.Caller, c providers.Capability, w providers.TestWrite, id string) (providers.Answer, error) {
	if c != providers.CRM {
		return providers.Answer{}, providers.ErrNoTestItem
	}
	base, err := InstanceURL(w.Account.InstanceURL)
	if err != nil {
		return providers.Answer{}, providers.ErrNoInstance
	}
	if !isRecordID(id) {
		// Never a path of our making: only an id the create answered.
		return providers.Answer{}, providers.ErrNoTestItem
	}
	return call.Send(ctx, http.MethodDelete, base+testTaskPath+id, w.Token, "", nil)
}
