package web

import (
	"net/url"

	"github.com/bestai/inbox/app"
)

// pageQuery asks a list for the page after cursor ("" for the first).
func pageQuery(cursor string) app.Query {
	v := url.Values{}
	if cursor != "" {
		v.Set("cursor", cursor)
	}
	return app.QueryOf(v)
}
