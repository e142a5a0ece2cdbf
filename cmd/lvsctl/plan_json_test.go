package main

import (
	"bytes"
	"encoding/json"
	"os"
	"reflect"
	"regexp"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/lvsctl/lvsctl/cmd/internal/statusapi"
)

// TestPlanJSONDocumented: docs/plan.md's example decodes into the schema
// with no unknown field and encodes back to itself, and every field and op
// kind of the schema is documented there.
func TestPlanJSONDocumented(t *testing.T) {
	doc, err := os.ReadFile("../../docs/plan.md")
	require.NoError(t, err)
	m := regexp.MustCompile("(?s)```json\n(.*?)```").FindSubmatch(doc)
	require.NotNil(t, m, "docs/plan.md has a ```json example")
	dec := json.NewDecoder(bytes.NewReader(m[1]))
	dec.DisallowUnknownFields()
	var p statusapi.Plan
	require.NoError(t, dec.Decode(&p))
	again, err := json.Marshal(p)
	require.NoError(t, err)
	assert.JSONEq(t, string(m[1]), string(again))

	text := string(doc)
	for _, typ := range []reflect.Type{reflect.TypeOf(statusapi.Plan{}), reflect.TypeOf(statusapi.Op{}), reflect.TypeOf(statusapi.Counts{}), reflect.TypeOf(statusapi.Changes{})} {
		for i := range typ.NumField() {
			name, _, _ := strings.Cut(typ.Field(i).Tag.Get("json"), ",")
			assert.Regexp(t, "`[a-z.\\[\\]]*\\b"+regexp.QuoteMeta(name)+"\\b[a-z.\\[\\]]*`", text, "%s.%s is documented", typ.Name(), typ.Field(i).Name)
		}
	}
	for _, kind := range []string{statusapi.OpAddService, statusapi.OpEditService, statusapi.OpDeleteService,
		statusapi.OpAddRealServer, statusapi.OpEditRealServer, statusapi.OpDeleteRealServer} {
		assert.Contains(t, text, "`"+kind+"`")
	}
}

// TestPlanJSONKernel: plan -o json against the kernel, decoded strictly.
func TestPlanJSONKernel(t *testing.T) {
	h := newHarness(t)
	port := closedPort(t)
	require.Equal(t, 0, h.run("apply", "-f", writeConfig(t, fourServices(port, 1))), h.errOut.String())

	tests := []struct {
		name    string
		src     string
		code    int
		changes statusapi.Changes
		kinds   []string
		refused string
	}{
		{name: "unchanged", src: fourServices(port, 1)},
		{name: "an edit", src: fourServices(port, 4), code: 2,
			changes: statusapi.Changes{Edit: statusapi.Counts{RealServer: 1}}, kinds: []string{statusapi.OpEditRealServer}},
		{name: "3 of 4 deleted", src: fourServices(port, 1, "web"), code: 2,
			changes: statusapi.Changes{Delete: statusapi.Counts{Service: 3}},
			kinds:   []string{statusapi.OpDeleteService, statusapi.OpDeleteService, statusapi.OpDeleteService},
			refused: "would delete 3 of 4 owned services (db, api, mail)"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			assert.Equal(t, tt.code, h.run("plan", "-f", writeConfig(t, tt.src), "-o", "json"), h.errOut.String())
			dec := json.NewDecoder(bytes.NewReader(h.out.Bytes()))
			dec.DisallowUnknownFields()
			var p statusapi.Plan
			require.NoError(t, dec.Decode(&p), h.out.String())
			assert.Equal(t, statusapi.SourceKernel, p.Source)
			assert.Equal(t, tt.changes, p.Changes)
			var kinds []string
			for _, op := range p.Ops {
				kinds = append(kinds, op.Kind)
				assert.NotEmpty(t, op.Key)
				assert.NotEmpty(t, op.Text)
			}
			assert.Equal(t, tt.kinds, kinds)
			assert.Equal(t, tt.refused, p.Refused)
			assert.NotNil(t, p.Ops, "ops is [] when empty, not null")
			assert.NotNil(t, p.Conflicts)
			assert.NotNil(t, p.Foreign)
		})
	}
}
